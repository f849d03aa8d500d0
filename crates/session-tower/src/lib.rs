//! Sessions for tower services: axum, tonic and hyper.
