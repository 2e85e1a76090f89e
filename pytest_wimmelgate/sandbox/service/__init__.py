"""The reference backend service itself: API, auth, storage, push, metrics, traffic."""
