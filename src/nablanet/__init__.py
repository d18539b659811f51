"""nablanet."""
