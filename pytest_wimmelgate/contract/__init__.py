"""The backend contract: the requests the backend checks send and what they expect."""
