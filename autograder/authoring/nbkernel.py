"""A notebook kernel inside the kit's sandbox, for nbgrader's autograding.

nbgrader executes each submitted notebook through a KernelManager;
nbcourse.py's config names SandboxedKernelManager, which

- speaks ZeroMQ over Unix sockets (the ipc transport) in a fresh folder made
  for this one kernel, since the sandbox has no network (a kernel cannot
  reach, or impersonate, another kernel's sockets);
- starts, instead of ipykernel itself, `python -m autograder.authoring.nbkernel
  -f CONNECTION_FILE`, which runs ipykernel in a sandboxed child: an
  unprivileged user, no network, its own PID namespace, and a private
  filesystem view holding only the notebook's folder, the socket folder, the
  connection file, MNIST and the Python installation. The kit, the hidden
  tests, the course folder and every other student's files are absent.

The notebook's folder the kernel sees is a private copy of the autograded
folder (nbfolders.copy_for_kernel), shown at the folder's own path: whatever
the kernel writes, links included, stays in the copy, which is deleted when
the kernel ends. The autograded folder itself, which nbgrader then writes,
chmods and copies into the feedback as the instructor, is never writable by
the student. A submission whose submitted folder holds links is refused
(nbgrader would already have copied what they point to).

The launcher refuses to start the kernel where the host cannot give it those
protections: a kernel that could see other students' submissions must not
run at all.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from .. import paths
from ..grading.sandbox import Budget, Limits, Mount, Sandbox, SandboxError
from . import nbfolders

# Protections a notebook kernel must have, or it does not start.
REQUIRED = ('user', 'net', 'pid', 'mount')
# A whole notebook: hours of CPU at most (nbgrader's own cell timeout stops a
# cell that hangs; the kernel then waits idle for the next request).
KERNEL_BUDGET = Budget(cpu=4 * 3600, wall=8 * 3600, idle=None)
PASSED_ENV = ('HW1_EPOCHS', 'HW1_BLAS_THREADS')


class SandboxedKernelManager(KernelManager):
    """A KernelManager whose kernels run in the sandbox and talk over ipc sockets."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The kernel's user gets sockets/ alone; the folder around it stays the
        # instructor's (0700), out of reach of the sandbox's sweep of shared
        # temp folders.
        self._socket_dir = tempfile.mkdtemp(prefix='hw1-kernel-')
        os.mkdir(os.path.join(self._socket_dir, 'sockets'), 0o700)
        self.transport = 'ipc'
        self.ip = os.path.join(self._socket_dir, 'sockets', 'kernel')

    @property
    def kernel_spec(self):
        return KernelSpec(argv=[sys.executable, '-m', 'autograder.authoring.nbkernel', '-f',
                                '{connection_file}'],
                          display_name='Python 3 (sandboxed)', language='python',
                          interrupt_mode='message',
                          env={'AUTOGRADER_KIT': str(paths.kit_root())})

    def cleanup_resources(self, restart=False):
        super().cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def main(argv=None):
    """python -m autograder.authoring.nbkernel -f CONNECTION_FILE [ipykernel options].

    Run with the notebook's folder as the working folder (nbclient does that).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != '-f':
        print("usage: python -m autograder.authoring.nbkernel -f CONNECTION_FILE "
              "[ipykernel options]", file=sys.stderr)
        return 2
    connection, extra = Path(argv[1]).resolve(), argv[2:]  # e.g. nbclient's --HistoryManager...
    info = json.loads(connection.read_text())
    if info.get('transport') != 'ipc':
        print("nbkernel: the sandboxed kernel needs the ipc transport (no network inside); "
              "use autograder.authoring.nbkernel.SandboxedKernelManager", file=sys.stderr)
        return 2
    notebook_dir = Path.cwd().resolve()
    socket_dir = Path(info['ip']).parent.resolve()
    try:
        nbfolders.refuse_linked_submission(notebook_dir)
    except nbfolders.FolderError as err:
        print(f"nbkernel: refusing to run this notebook: {err}", file=sys.stderr)
        return 3
    work = Path(tempfile.mkdtemp(prefix='hw1-kernel-sandbox-'))
    os.chmod(work, 0o711)  # the sandbox's run folders inside are passable
    private = work / 'private'
    os.mkdir(private, 0o700)  # the kernel's copy: reached through its mount only
    try:
        with Sandbox(work / 'sandbox', limits=Limits()) as sandbox:
            protections = sandbox.detect()
            missing = [s for s in REQUIRED if s not in protections.done]
            if missing:
                print("nbkernel: refusing to run a student's notebook without "
                      + ', '.join(missing) + " isolation:\n  " + '\n  '.join(protections.lines()),
                      file=sys.stderr)
                return 3
            copy = private / 'notebook'
            nbfolders.copy_for_kernel(notebook_dir, copy, sandbox.uid)
            os.chown(socket_dir, sandbox.uid, sandbox.uid, follow_symlinks=False)
            os.chmod(connection, 0o644)
            data = paths.data_dir()
            mounts = [Mount(str(copy), str(notebook_dir), writable=True),
                      Mount(str(socket_dir), str(socket_dir), writable=True),
                      Mount(str(connection), str(connection)),
                      Mount(str(data), '/sandbox/mnist')]
            env = {'MNIST_DIR': '/sandbox/mnist'}
            env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
            result = sandbox.run([sys.executable, '-m', 'ipykernel_launcher', '-f',
                                  str(connection), *extra], mounts=mounts, env=env,
                                 budgets=[KERNEL_BUDGET], cwd=str(notebook_dir))
            if result.failure():
                print(f"nbkernel: the kernel {result.failure()}\n"
                      + result.output.decode(errors='replace')[-2000:], file=sys.stderr)
            return 0 if result.exit_code == 0 else 1
    except (SandboxError, nbfolders.FolderError) as err:
        print(f"nbkernel: the sandbox cannot run: {err}", file=sys.stderr)
        return 3
    finally:
        # The copy goes with everything the kernel wrote in it; rmtree follows no link.
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
