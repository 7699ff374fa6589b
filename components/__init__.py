"""One Pulumi ComponentResource per file; each takes typed Args and wires results to outputs."""
