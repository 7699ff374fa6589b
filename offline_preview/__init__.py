"""Offline preview: the real program under Pulumi's mock engine, recorded and printed as a plan."""
