"""Helpers for task code run by Capstan: `from capstan import kafka` produces through a team connection."""
