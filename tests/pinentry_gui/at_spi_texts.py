#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prints, as JSON, what the holder sees in the windows of the program with process id PID: the
text of every label and the name and centre (screen coordinates) of every button that is
showing, read through AT-SPI (the
accessibility bus of the session in DBUS_SESSION_BUS_ADDRESS). Widgets a dialog keeps hidden
(gcr's "Confirm:" field, an empty error line) are left out. By process, not by title: Qt gives
its dialog no accessible name. Waits at most --timeout seconds for a window of PID with a label
showing: exits 2 when none came. Without --pid, only starts the registry (Qt registers with it
only when it runs by the time Qt starts)."""

import argparse
import json
import sys
import time

import pyatspi

SHOWN = (pyatspi.STATE_SHOWING, pyatspi.STATE_VISIBLE)


def shown(accessible):
    states = accessible.getState()
    return all(states.contains(state) for state in SHOWN)


def collect(accessible, seen):
    """Labels and buttons under accessible, in the toolkit's order."""
    for index in range(accessible.childCount):
        child = accessible.getChildAtIndex(index)
        if child is None or not shown(child):
            continue
        role = child.getRole()
        if role == pyatspi.ROLE_LABEL and child.name:
            seen["labels"].append(child.name)
        elif role == pyatspi.ROLE_PUSH_BUTTON:
            x, y, width, height = child.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
            seen["buttons"].append(
                {"name": child.name, "x": x + width // 2, "y": y + height // 2})
        collect(child, seen)


def find_window(pid):
    desktop = pyatspi.Registry.getDesktop(0)
    for app_index in range(desktop.childCount):
        application = desktop.getChildAtIndex(app_index)
        if application is None or application.get_process_id() != pid:
            continue
        for index in range(application.childCount):
            window = application.getChildAtIndex(index)
            if window is not None and shown(window):
                seen = {"labels": [], "buttons": []}
                collect(window, seen)
                if seen["labels"]:
                    return seen
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int)
    parser.add_argument("--timeout", type=float, default=30.0)
    arguments = parser.parse_args()
    if arguments.pid is None:
        pyatspi.Registry.getDesktop(0)
        return 0
    deadline = time.monotonic() + arguments.timeout
    while True:
        try:
            seen = find_window(arguments.pid)
        except Exception:  # an application going away mid-walk: look again
            seen = None
        if seen is not None:
            json.dump(seen, sys.stdout)
            return 0
        if time.monotonic() > deadline:
            print("no window of process %d with a label showing" % arguments.pid, file=sys.stderr)
            return 2
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
