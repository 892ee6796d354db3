"""The leaderboard: submission format, validation and re-scoring, evaluation of methods, publishing, pages."""
