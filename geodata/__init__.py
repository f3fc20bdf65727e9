"""Loading and building a region: road network, sites, communes and boundary."""
