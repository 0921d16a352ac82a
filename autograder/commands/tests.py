"""`autograder tests`: list the hidden tests, their settings and who asks for what."""
NAME = 'tests'
HELP = "list the hidden tests and their declarations"
DESCRIPTION = ("Print every hidden test of the rubric: id, kind, points, visibility, CPU "
               "budget, title (and with -v every parameter, and for each requirement what "
               "each scaffold says).")
EXAMPLES = ["autograder tests", "autograder tests -v"]


def add_arguments(parser):
    parser.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    parser.add_argument('-v', '--verbose', action='store_true', help="every parameter too")


def run(args):
    from ..catalogue import load_catalogue
    catalogue = load_catalogue(args.rubric)
    for test in catalogue.tests:
        spec = test.spec
        print(f"{spec.number:>2}. {spec.id}  [{spec.kind}, {spec.points:g} points, "
              f"{spec.visibility}, {spec.cpu_seconds:g} s CPU"
              f"{', reference' if test.uses_reference else ''}]")
        print(f"    {spec.title}")
        if args.verbose:
            for key, value in spec.params.items():
                if key != 'calibration':
                    print(f"      {key}: {value}")
            # Where each requirement is stated, scaffold by scaffold (scaffolds.yaml).
            for requirement in spec.requires:
                print(f"      requires {requirement}:")
                for scaffold in catalogue.scaffolds.values():
                    said = scaffold.states.get(requirement)
                    print(f"        {scaffold.name}: " + (said or "not stated: not judged "
                                                          "for this scaffold's code"))
    print(f"{len(catalogue.tests)} tests, {catalogue.total:g} points ({catalogue.path}); "
          f"scaffolds: {', '.join(catalogue.scaffolds)}")
    return 0
