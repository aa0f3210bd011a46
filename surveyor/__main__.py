from surveyor.cli.main import run

run()
