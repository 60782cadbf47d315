"""The UI login is throttled and Gradio's temp folder is the workspace's own."""

from __future__ import annotations

import os

from assistant.limits import LoginThrottle


class Clock:
    def __init__(self):
        self.now, self.slept = 1000.0, 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_wrong_passwords_cost_time_and_lock_the_login_out():
    clock = Clock()
    login = LoginThrottle("planner", "s3cret", clock=clock, sleep=clock.sleep)

    assert login("planner", "s3cret")
    results = [login("planner", f"guess{i}") for i in range(30)]
    assert not any(results)
    # 5 failures then locked: the remaining 25 guesses are refused without even being tried
    assert clock.slept == 5 * 0.5 and login.lockouts == 1
    assert not login("planner", "s3cret")  # the right password too, while locked out
    clock.now += 31
    assert login("planner", "s3cret")
    for i in range(5):  # the next lockout lasts twice as long
        login("other-name", f"guess{i}")
    clock.now += 31
    assert not login("planner", "s3cret")
    clock.now += 30
    assert login("planner", "s3cret")


def test_gradio_uses_a_temp_folder_under_the_workspace(tmp_path):
    from ui.app import use_workspace_temp_dir

    before = os.environ.get("GRADIO_TEMP_DIR")
    try:
        folder = use_workspace_temp_dir(tmp_path / "data", create=True)
        import gradio.utils

        assert folder == (tmp_path / "data" / "gradio-tmp").resolve() and folder.is_dir()
        assert gradio.utils.get_upload_folder() == str(folder)
    finally:
        if before is not None:
            os.environ["GRADIO_TEMP_DIR"] = before
