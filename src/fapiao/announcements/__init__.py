"""Announcements: maintenance notices and release notes, as banners, a list and feeds."""
