//! Workspace-level HTTP tests over real TCP.
