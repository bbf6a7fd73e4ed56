"""Support-lead analytics: figures from the events table, abandonment, and exports for a warehouse."""
