from signalcheck.cli import app

app(prog_name="signalcheck")
