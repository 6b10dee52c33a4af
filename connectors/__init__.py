"""The assistant's input channels, named in credentials.yml: REST, socket.io (the web widget) and WeChat."""
