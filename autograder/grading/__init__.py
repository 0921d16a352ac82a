"""One submission, from its bytes to results.json: the trusted judge and the sandbox it runs code in.

The modules, in the order a submission goes through them: intake (the
allowed files, read race-free and bounded), workspace (the package folder
and the request files), data (the folders a run may see: the public
images, the secret training split, the reference's runs on it), secret
(the course's grading secret), libraries (what student code may import),
sandbox/ (isolated runs: launcher, seccomp, cgroups, uids, usage, load,
cores, leftovers), probes (runs inside the sandbox, answers requests;
imports nothing of the kit), sessions (requests answered by runs, retries,
progress), decode (answers read within their budgets), reference_answers
(the reference's answers kept for requests every submission asks alike),
reference_process (the reference's long-lived process, one per grader),
judge (every test's verdict), report (results.json and summary.json),
grader (all of it for one submission). grading may import the catalogue and
the base modules (paths, untrusted, files); never course, authoring or
commands.
"""
