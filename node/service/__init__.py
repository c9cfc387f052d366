"""Start-up assembly from a config, and the asyncio service that runs the node's tasks."""
