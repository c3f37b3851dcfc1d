"""The Qt layer: widgets that draw the core's records and call into the core."""
