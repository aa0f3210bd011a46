"""The app's screens: the building list and the survey."""
