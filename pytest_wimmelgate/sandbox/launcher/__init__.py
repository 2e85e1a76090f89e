"""Starting, supervising and faulting a whole sandbox: processes, monitoring, control."""
