"""The signalcheck pytest plugin and `signalcheck validate`, run as users run them."""
