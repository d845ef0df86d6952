"""`python -m testbed.vic [--port N]`: a simulated VIC container host in the foreground."""
import argparse

from testbed.vic.server import default_port, serve_forever

parser = argparse.ArgumentParser(prog="python -m testbed.vic", description=__doc__)
parser.add_argument("--port", type=int, default=default_port(),
                    help="the port on 127.0.0.1 (default: PACIFIC_TESTBED_PORT_BASE + 20)")
serve_forever(parser.parse_args().port)
