# JupyterLab of a Kubernetes sandbox: the token comes from $JUPYTER_TOKEN (the sandbox's Secret);
# Capstan's proxy adds it to every request, so the page never needs it.
c = get_config()  # noqa: F821
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = 8888
c.ServerApp.port_retries = 0
c.ServerApp.open_browser = False
c.ServerApp.root_dir = "/home/sandbox"
c.ServerApp.quit_button = False
# Requests arrive from Capstan's proxy with the Service's host name.
c.ServerApp.allow_remote_access = True
c.ServerApp.tornado_settings = {"page_config_hook": lambda handler, page_config: {**page_config, "token": ""}}
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.news_url = None
c.LabApp.extension_manager = "readonly"
