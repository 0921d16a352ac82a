"""A seccomp filter for student code: deny the system calls a homework never needs.

Built here as a classic BPF program and installed with prctl, so it needs
nothing beyond the standard library (the launcher imports it with -I -S).
Denied (EPERM): the kernel keyring (keyctl, add_key, request_key: the keyring
outlives a process and could carry a message to the next student graded by
the same worker), ptrace and process_vm_*, mount and the new mount API,
namespaces (unshare, setns, clone with CLONE_NEW* flags), bpf,
perf_event_open, io_uring, userfaultfd, module and kexec loading, reboot,
swap, clocks, syslog, and the x32 ABI. Where the run has no network
namespace, socket() is allowed for AF_UNIX only (EACCES otherwise): that is
then what keeps it off the network (inside a network namespace there is
nothing to reach, and libraries such as ZeroMQ probe for IPv6 at start).
clone3 answers ENOSYS, so the C library falls back to clone, whose flags the
filter can read.

Only x86_64 and aarch64 are known; elsewhere `program()` returns None and the
launcher reports the step as unavailable.
"""
import ctypes
import errno
import platform
import struct

# System call numbers: arch/x86/entry/syscalls/syscall_64.tbl and
# include/uapi/asm-generic/unistd.h (aarch64). tests/test_sandbox.py checks
# the x86_64 table against the machine's <asm/unistd_64.h> when present.
DENIED = {
    'x86_64': {
        'keyctl': 250, 'add_key': 248, 'request_key': 249, 'ptrace': 101,
        'process_vm_readv': 310, 'process_vm_writev': 311, 'mount': 165, 'umount2': 166,
        'pivot_root': 155, 'chroot': 161, 'unshare': 272, 'setns': 308, 'bpf': 321,
        'perf_event_open': 298, 'userfaultfd': 323, 'io_uring_setup': 425,
        'io_uring_enter': 426, 'io_uring_register': 427, 'open_tree': 428, 'move_mount': 429,
        'fsopen': 430, 'fsconfig': 431, 'fsmount': 432, 'fspick': 433, 'mount_setattr': 442,
        'init_module': 175, 'finit_module': 313, 'delete_module': 176, 'kexec_load': 246,
        'kexec_file_load': 320, 'reboot': 169, 'swapon': 167, 'swapoff': 168, 'acct': 163,
        'quotactl': 179, 'syslog': 103, 'settimeofday': 164, 'clock_settime': 227,
        'adjtimex': 159, 'clock_adjtime': 305, 'iopl': 172, 'ioperm': 173, 'vhangup': 153,
        'open_by_handle_at': 304, 'name_to_handle_at': 303, 'kcmp': 312,
        'lookup_dcookie': 212,
    },
    'aarch64': {
        'keyctl': 219, 'add_key': 217, 'request_key': 218, 'ptrace': 117,
        'process_vm_readv': 270, 'process_vm_writev': 271, 'mount': 40, 'umount2': 39,
        'pivot_root': 41, 'chroot': 51, 'unshare': 97, 'setns': 268, 'bpf': 280,
        'perf_event_open': 241, 'userfaultfd': 282, 'io_uring_setup': 425,
        'io_uring_enter': 426, 'io_uring_register': 427, 'open_tree': 428, 'move_mount': 429,
        'fsopen': 430, 'fsconfig': 431, 'fsmount': 432, 'fspick': 433, 'mount_setattr': 442,
        'init_module': 105, 'finit_module': 273, 'delete_module': 106, 'kexec_load': 104,
        'kexec_file_load': 294, 'reboot': 142, 'swapon': 224, 'swapoff': 225, 'acct': 89,
        'quotactl': 60, 'syslog': 116, 'settimeofday': 170, 'clock_settime': 112,
        'adjtimex': 171, 'clock_adjtime': 266, 'vhangup': 58, 'open_by_handle_at': 265,
        'name_to_handle_at': 264, 'kcmp': 272, 'lookup_dcookie': 18,
    },
}
SPECIAL = {'x86_64': {'socket': 41, 'clone': 56, 'clone3': 435},
           'aarch64': {'socket': 198, 'clone': 220, 'clone3': 435}}
AUDIT_ARCH = {'x86_64': 0xC000003E, 'aarch64': 0xC00000B7}
X32_BIT = 0x40000000
CLONE_NAMESPACES = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
AF_UNIX = 1

# BPF opcodes (linux/filter.h, linux/bpf_common.h) and seccomp return values.
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (little-endian)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def machine():
    name = platform.machine().lower()
    return {'amd64': 'x86_64', 'arm64': 'aarch64'}.get(name, name)


def program(arch=None, local_sockets_only=True):
    """The filter as a list of (code, jt, jf, k), or None for an unknown architecture."""
    arch = arch or machine()
    if arch not in DENIED:
        return None
    special = SPECIAL[arch]
    # Assembled with symbolic jump targets, resolved below.
    code = [('ld', _ARCH), ('jeq', AUDIT_ARCH[arch], None, 'kill'), ('ld', _NR)]
    if arch == 'x86_64':
        code.append(('jge', X32_BIT, 'eperm', None))
    for number in sorted(DENIED[arch].values()):
        code.append(('jeq', number, 'eperm', None))
    code += [('jeq', special['clone3'], 'enosys', None),
             ('jeq', special['clone'], 'clone', None)]
    if local_sockets_only:
        code.append(('jeq', special['socket'], 'socket', None))
    code += [('ret', RET_ALLOW),
             ('label', 'clone'), ('ld', _ARG0), ('jset', CLONE_NAMESPACES, 'eperm', None),
             ('ret', RET_ALLOW),
             ('label', 'socket'), ('ld', _ARG0), ('jeq', AF_UNIX, 'allow', None),
             ('ret', RET_ERRNO | errno.EACCES),
             ('label', 'eperm'), ('ret', RET_ERRNO | errno.EPERM),
             ('label', 'enosys'), ('ret', RET_ERRNO | errno.ENOSYS),
             ('label', 'allow'), ('ret', RET_ALLOW),
             ('label', 'kill'), ('ret', RET_KILL_PROCESS)]
    labels, position = {}, 0
    for item in code:
        if item[0] == 'label':
            labels[item[1]] = position
        else:
            position += 1
    out, position = [], 0
    for item in code:
        kind = item[0]
        if kind == 'label':
            continue
        if kind == 'ld':
            out.append((_LD_ABS, 0, 0, item[1]))
        elif kind == 'ret':
            out.append((_RET, 0, 0, item[1]))
        else:
            opcode = {'jeq': _JEQ, 'jge': _JGE, 'jset': _JSET}[kind]
            value, true, false = item[1], item[2], item[3]

            def offset(label):
                return 0 if label is None else labels[label] - position - 1

            jt, jf = offset(true), offset(false)
            out.append((opcode, jt, jf, value))
        position += 1
    if any(not 0 <= jt <= 255 or not 0 <= jf <= 255 for _, jt, jf, _ in out):
        raise ValueError("seccomp program too long for 8-bit jumps")
    return out


def install(arch=None, local_sockets_only=True):
    """Install the filter on this thread (and what it execs); needs no_new_privs first.

    Raises:
        OSError: the kernel refused it; NotImplementedError: unknown architecture.
    """
    instructions = program(arch, local_sockets_only)
    if instructions is None:
        raise NotImplementedError(f"no seccomp table for {machine()}")
    raw = b''.join(struct.pack('=HBBI', *ins) for ins in instructions)
    buffer = ctypes.create_string_buffer(raw)

    class Program(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]

    prog = Program(len(instructions), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                           ctypes.c_ulong]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp: {errno.errorcode.get(code, code)}")
