"""What a gate run leaves in the release folder."""
