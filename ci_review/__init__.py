"""What the GitHub workflows run beside `make test`: stack lists and a pull request's IAM review
(docs/workflows.md)."""
