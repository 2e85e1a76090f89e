"""The gate run itself: options, selection, start-up, session, verdict, outcomes, locks."""
