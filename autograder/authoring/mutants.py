"""Mutation testing of the hidden and visible tests (being built)."""


def add_arguments(parser):
    parser.add_argument('--out', help="output folder")
    parser.add_argument('--quick', action='store_true', help="a fixed sample")


def run(args):
    raise NotImplementedError("autograder mutants is not built yet")
