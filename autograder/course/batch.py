"""Grade a folder of submissions, N at a time, resumably; write the gradebook.

    OUT/
      batch.json                 every student's status, score, time, reason
      gradebook.csv              one row per student (nbgrader export columns + tests)
      submissions/<folder>/      results.json and summary.json of each student

Each submission is graded by a worker process with its own Grader (its own
sandbox uid, workspace and data), so one submission's crash, timeout or
memory bomb never touches another's result. A worker that dies takes only
the submission it was grading with it (reported 'not graded', graded again
next time); a new worker takes over the rest. A student's folder is
published by renaming a complete temporary folder into place.

Stopping: Ctrl-C (or SIGTERM, SIGHUP) cancels what is queued, ends what is
running (its sandboxed processes die with it), writes batch.json, the
gradebook and the report for everything finished, says how to resume, and
exits 130. A re-run skips every submission whose content and grader are
unchanged and whose result is final; --force grades everything again,
--student ID grades just those students again.
"""
import datetime
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict
from multiprocessing.connection import wait
from pathlib import Path

from .. import paths
from ..files import make_dir, write_json
from ..grading import intake
from ..untrusted import name as shown
from .discover import BatchError, discover, read_roster
from .gradebook import write_gradebook
from .late import Policy, timing

FINAL = ('graded', 'unreadable')     # statuses a re-run keeps
MAX_RESPAWNS = 5


class Interrupted(Exception):
    """The batch was stopped by a signal; `signal` says which."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def grader_version(rubric_path=None, only=None, scaffold=None):
    """A hash of everything that decides a grade: rubric, scaffolds, catalogue, probes,
    judge, reference."""
    h = hashlib.sha256(repr((sorted(only or []), scaffold)).encode())
    sources = [Path(rubric_path or paths.RUBRIC), paths.SCAFFOLDS]
    for folder in (paths.PACKAGE / 'catalogue', paths.PACKAGE / 'grading'):
        sources += sorted(folder.rglob('*.py'))
    sources += sorted(p for p in paths.solutions_dir().rglob('*.py')
                      if 'tests' not in p.relative_to(paths.solutions_dir()).parts)
    for path in sources:
        h.update(path.read_bytes())
    return h.hexdigest()


# -- workers -------------------------------------------------------------------
def _worker(conn, slot, grader_kwargs, version):
    """A worker process: one Grader, then grade what the coordinator sends until told to stop.

    grader_kwargs: Grader's arguments, with `limits` as a dict of Limits fields.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides on Ctrl-C

    def stop(signum, _):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    from ..grading.grader import Grader
    from ..grading.sandbox import Limits
    kwargs = dict(grader_kwargs)
    try:
        grader = Grader(slot=slot, limits=Limits(**kwargs.pop('limits')), **kwargs)
    except Exception as err:
        conn.send({'fatal': f"{type(err).__name__}: {err}"})
        return
    try:
        conn.send({'ready': True})
        while True:
            task = conn.recv()
            if task is None:
                return
            conn.send(_grade_one(grader, version, *task))
    except (EOFError, BrokenPipeError):
        return
    finally:
        grader.close()


def _grade_one(grader, version, submission, final_dir):
    """Grade into a temporary folder, then swap it into place."""
    final_dir = Path(final_dir)
    tmp = final_dir.parent / f'.tmp-{final_dir.name}-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.monotonic()
    try:
        document, summary = grader.grade(submission, tmp)
        summary['grader'] = version  # a re-run skips only what this grader graded
        write_json(tmp / 'summary.json', summary)
        _publish(tmp, final_dir)
    except Exception as err:  # e.g. the output folder cannot be written
        shutil.rmtree(tmp, ignore_errors=True)
        return {'status': 'not graded', 'reason': f"{type(err).__name__}: {err}",
                'seconds': time.monotonic() - start}
    return {'status': summary['status'], 'score': document['score'],
            'max_score': summary['max_score'], 'seconds': summary['seconds'].get('total'),
            'digest': summary['digest'], 'reason': summary.get('reason')}


def _publish(tmp, final):
    """Replace final by tmp; at no moment is a half-written folder under final."""
    old = final.parent / f'.old-{final.name}-{os.getpid()}'
    if final.exists():
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _recover(submissions):
    """Undo what a killed run left: restore swapped-out folders, drop partial ones."""
    for path in submissions.glob('.old-*'):
        final = submissions / path.name[len('.old-'):].rsplit('-', 1)[0]
        if not final.exists():
            os.rename(path, final)
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in submissions.glob('.tmp-*'):
        shutil.rmtree(path, ignore_errors=True)


class Pool:
    """Worker processes, each grading one submission at a time.

    A worker that dies is replaced; the submission it held gets a
    'not graded' outcome naming how it died.
    """

    def __init__(self, jobs, init):
        self.init = init
        self.context = multiprocessing.get_context('spawn')
        self.workers = {}  # slot -> [process, conn, task or None]
        self.respawns = 0
        # All start at once (Python's start and the imports overlap), then
        # each is waited for.
        starting = [self._spawn(slot) for slot in range(jobs)]
        try:
            for slot, (process, parent) in enumerate(starting):
                self._ready(slot, process, parent)
        except BatchError:
            for process, parent in starting:
                if process.is_alive():
                    process.kill()
                    process.join(5)
                parent.close()
            raise

    def _spawn(self, slot):
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, slot, *self.init),
                                       daemon=True)
        process.start()
        child.close()
        return process, parent

    def _ready(self, slot, process, parent):
        try:
            message = parent.recv() if parent.poll(600) else {'fatal': 'it did not start'}
        except (EOFError, OSError):
            message = {'fatal': f"it died as it started (exit status {process.exitcode})"}
        if 'fatal' in message:
            process.join(5)
            raise BatchError(f"a grading worker cannot start: {message['fatal']}")
        self.workers[slot] = [process, parent, None]

    def _start(self, slot):
        self._ready(slot, *self._spawn(slot))

    def idle(self):
        return [slot for slot, (_, _, task) in self.workers.items() if task is None]

    def busy(self):
        return [slot for slot, (_, _, task) in self.workers.items() if task is not None]

    def submit(self, slot, key, task):
        self.workers[slot][2] = key
        self.workers[slot][1].send(task)

    def results(self, timeout=0.5):
        """[(key, outcome)] of the tasks that finished (or whose worker died)."""
        handles = {}
        for slot, (process, conn, task) in self.workers.items():
            if task is not None:
                handles[conn] = slot
                handles[process.sentinel] = slot
        done = []
        for handle in wait(list(handles), timeout):
            slot = handles[handle]
            process, conn, key = self.workers[slot]
            if key is None:
                continue
            try:
                if conn.poll():
                    outcome = conn.recv()
                    self.workers[slot][2] = None
                    done.append((key, outcome))
                    continue
            except (EOFError, OSError):
                pass
            if not process.is_alive():
                code = process.exitcode
                how = (f"killed by {signal.Signals(-code).name}" if code and code < 0
                       else f"exit status {code}")
                done.append((key, {'status': 'not graded',
                                   'reason': f"the grading worker died ({how}; out of "
                                             f"memory?) while grading it"}))
                self.respawns += 1
                if self.respawns > MAX_RESPAWNS:
                    raise BatchError("grading workers keep dying: " + how)
                self._start(slot)
        return done

    def close(self, terminate=False):
        for slot, (process, conn, _) in self.workers.items():
            try:
                if terminate:
                    process.terminate()
                else:
                    conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        deadline = time.monotonic() + 30
        for process, conn, _ in self.workers.values():
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                process.kill()
                process.join(5)
            conn.close()
        self.workers = {}


class Progress:
    """A bar on a terminal; one line per finished submission elsewhere; nothing if quiet."""

    def __init__(self, total, mode=None, stream=None):
        self.stream = stream or sys.stderr
        self.mode = mode if mode is not None else ('bar' if self.stream.isatty() else 'lines')
        self.total, self.count, self.bar = total, 0, None
        if self.mode == 'bar' and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit='submission', desc='grading', file=self.stream)

    def update(self, entry):
        self.count += 1
        if self.bar:
            self.bar.update(1)
        elif self.mode == 'lines':
            score = (f"{entry.score:g}/{entry.max_score:g}" if entry.score is not None
                     and entry.max_score else entry.status)
            seconds = f" ({entry.seconds:.1f} s)" if isinstance(entry.seconds, (int, float)) \
                else ''
            reason = f" - {shown(entry.reason, 100)}" if entry.status != 'graded' and \
                entry.reason else ''
            print(f"[{self.count}/{self.total}] {shown(entry.id)}: {score}{seconds}{reason}",
                  file=self.stream, flush=True)

    def close(self):
        if self.bar:
            self.bar.close()


def _already_graded(entry, final_dir, allowlist, version):
    """The summary of a final result for exactly this content and grader, or None."""
    try:
        summary = json.loads((final_dir / 'summary.json').read_text())
        json.loads((final_dir / 'results.json').read_text())
    except (OSError, ValueError):
        return None
    if summary.get('grader') != version or summary.get('status') not in FINAL:
        return None
    if summary.get('digest') != intake.fingerprint(entry.submission, allowlist):
        return None
    return summary


def _interrupt_handlers():
    """SIGTERM and SIGHUP stop the batch as Ctrl-C does; returns the old handlers."""
    def handler(signum, _):
        raise Interrupted(signum)

    old = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        old[sig] = signal.signal(sig, handler)
    return old


def grade_batch(folder, out, jobs=1, force=False, roster_path=None, rubric=None, only=None,
                students=None, policy=None, assignment='hw1', progress=None,
                limits_kwargs=None, time_limit=None, scaffold=None):
    """Grade every submission in `folder` into `out`; return the batch document.

    Args:
        jobs: worker processes.
        force: grade again even what was already graded.
        roster_path: optional roster CSV (student_id, last_name, first_name,
            email, submission).
        students: grade only these student ids again (the others keep their
            results); the gradebook and report cover everyone.
        policy: a late.Policy (default: no due date).
        progress: None for a bar on a terminal and lines elsewhere, 'lines',
            or False for nothing.
        limits_kwargs: sandbox.Limits fields for every run.
        time_limit: wall-clock seconds each submission's grading may take
            (Grader's time_limit), or None.
        scaffold: grade every submission by this scaffold's statements (a
            name in scaffolds.yaml) instead of the one detected from its files.

    Raises:
        BatchError: the folder, roster or student list cannot be used.
        KeyboardInterrupt: stopped (Ctrl-C, SIGTERM, SIGHUP) after writing what
            finished; document['interrupted'] says which signal.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {shown(out)} is a file, not a folder")
    policy = policy or Policy()
    roster = read_roster(roster_path) if roster_path else None
    entries, problems = discover(folder, roster, exclude=[out])
    if students:
        unknown = sorted(set(students) - {e.id for e in entries})
        if unknown:
            raise BatchError(f"--student: no submission for {', '.join(map(shown, unknown))}")
    submissions = make_dir(out / 'submissions')
    make_dir(out)
    _recover(submissions)
    started = datetime.datetime.now().astimezone().isoformat(timespec='seconds')
    version = grader_version(rubric, only, scaffold)
    allowlist = intake.Allowlist.read(paths.student_dir() / paths.SUBMISSION_FILES)

    todo, late = [], {}
    for entry in entries:
        when = timing(entry.submission, policy,
                      (roster or {}).get(entry.id, {}).get('submitted_at'))
        entry.timestamp = when.submitted.isoformat(timespec='seconds') if when.submitted else ''
        entry.time_source = when.source + (f" ({when.problem})" if when.problem else '')
        entry.duedate = when.due.isoformat(timespec='seconds') if when.due else ''
        late[id(entry)] = when.penalty
        if entry.status not in ('pending', 'duplicate'):
            continue
        final = submissions / entry.folder
        regrade = force or (students is not None and entry.id in students)
        done = None if regrade else _already_graded(entry, final, allowlist, version)
        if done:
            if entry.status == 'pending':
                entry.status = 'skipped' if done['status'] == 'graded' else done['status']
            entry.score, entry.max_score = done['score'], done['max_score']
            entry.seconds, entry.digest = done['seconds'].get('total'), done['digest']
            entry.reason = done.get('reason')
        elif students is not None and entry.id not in students:
            entry.status, entry.reason = 'not graded', 'not regraded (--student)'
            previous = _previous(final)
            if previous:
                entry.status = 'skipped'
                entry.score, entry.max_score = previous['score'], previous['max_score']
        else:
            todo.append(entry)

    interrupted = None
    show = Progress(len(todo), mode=None if progress is None else (progress or 'quiet'))
    limits = dict(limits_kwargs or {})
    old_handlers = _interrupt_handlers()
    pool = None
    try:
        if todo:
            grader_kwargs = {'rubric_path': rubric, 'only': only, 'limits': limits,
                             'time_limit': time_limit, 'scaffold': scaffold}
            pool = Pool(min(jobs, len(todo)), (grader_kwargs, version))
            queue, running = list(todo), {}
            while queue or running:
                for slot in pool.idle():
                    if not queue:
                        break
                    entry = queue.pop(0)
                    running[id(entry)] = entry
                    pool.submit(slot, id(entry), (entry.submission,
                                                  str(submissions / entry.folder)))
                for key, outcome in pool.results():
                    entry = running.pop(key)
                    duplicate = entry.status == 'duplicate'
                    for field, value in outcome.items():
                        if not (duplicate and field in ('status', 'reason')):
                            setattr(entry, field, value)
                    show.update(entry)
            pool.close()
            pool = None
    except (KeyboardInterrupt, Interrupted) as stop:
        interrupted = 'SIGINT' if isinstance(stop, KeyboardInterrupt) else str(stop)
        for entry in todo:
            if entry.status == 'pending':
                entry.status, entry.reason = 'interrupted', f"stopped by {interrupted}"
    finally:
        if pool is not None:
            pool.close(terminate=True)
        show.close()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        _recover(submissions)

    for entry in entries:
        if entry.score is not None and late[id(entry)] and entry.status in ('graded', 'skipped'):
            entry.late_penalty = round(entry.score * late[id(entry)], 4)
    document = {
        'assignment': assignment,
        'rubric_total': _rubric_total(rubric, only),
        'students': [asdict(e) for e in entries],
        'problems': problems,
        'late_policy': policy.describe(),
        'jobs': jobs, 'started': started,
        'finished': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'grader': version,
    }
    if interrupted:
        document['interrupted'] = interrupted
    write_json(out / 'batch.json', document)
    write_gradebook(out, document, roster)
    if interrupted:
        raise KeyboardInterrupt(interrupted)
    return document


def _previous(final):
    try:
        return json.loads((final / 'summary.json').read_text())
    except (OSError, ValueError):
        return None


def _rubric_total(rubric, only):
    from ..catalogue import load_catalogue, select
    return sum(t.spec.points for t in select(load_catalogue(rubric), only))
