"""Unit tests of run_notebooks.stderr_to_error on what tslab 1.0.22 writes to stderr for failed cells
(recorded from its kernel). Run: .venv/bin/python -m unittest tools/run_notebooks_test.py"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from run_notebooks import stderr_to_error  # noqa: E402


def stderr(text):
    return {"output_type": "stream", "name": "stderr", "text": text}


def stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


FRAMES = (
    "    at evalmachine.<anonymous>:3:7\n"
    "    at evalmachine.<anonymous>:5:3\n"
    "    at sigintHandlersWrap (node:vm:280:12)\n"
    "    at Script.runInThisContext (node:vm:135:14)\n"
    "    at Object.execute (/x/tools/tslab/node_modules/tslab/dist/executor.js:160:38)\n"
    "    at async ZmqServer.handleExecute (/x/tools/tslab/node_modules/tslab/dist/jupyter.js:406:25)\n"
)


class StderrToError(unittest.TestCase):
    def test_compile_errors_become_one_typescript_error(self):
        out = stderr_to_error([stderr("1:7 - Type 'string' is not assignable to type 'number'.\n"
                                      "2:1 - Cannot find name 'Deno'.\n")])
        self.assertEqual(len(out), 1)
        self.assertEqual(out[0]["output_type"], "error")
        self.assertEqual(out[0]["ename"], "TypeScriptError")
        self.assertEqual(out[0]["evalue"], "1:7 - Type 'string' is not assignable to type 'number'.\n"
                                           "2:1 - Cannot find name 'Deno'.")

    def test_runtime_error_name_message_and_the_cells_frames_only(self):
        text = 'evalmachine.<anonymous>:3\nthrow new TypeError("bad input x");\n^\n\nTypeError: bad input x\n' + FRAMES
        out = stderr_to_error([stdout("before\n"), stderr(text)])
        self.assertEqual(out[0], stdout("before\n"), "stdout is kept, in place")
        err = out[-1]
        self.assertEqual((err["ename"], err["evalue"]), ("TypeError", "bad input x"))
        self.assertEqual(err["traceback"], ["TypeError: bad input x", "    at evalmachine.<anonymous>:3:7",
                                            "    at evalmachine.<anonymous>:5:3"])
        self.assertEqual(len(out), 2, "the source-context lines belong to the error, not to a stderr output")

    def test_stderr_before_the_error_stays_and_messages_keep_their_lines(self):
        text = ('a warning\nevalmachine.<anonymous>:3\nthrow new Error("first line\\nsecond line");\n^\n\n'
                'Error: first line\nsecond line\n' + FRAMES)
        out = stderr_to_error([stderr(text)])
        self.assertEqual(out[0], stderr("a warning\n"))
        self.assertEqual((out[1]["ename"], out[1]["evalue"]), ("Error", "first line\nsecond line"))

    def test_error_codes_and_errors_without_a_stack(self):
        out = stderr_to_error([stderr("RangeError [ERR_OUT_OF_RANGE]: too big\n" + FRAMES)])
        self.assertEqual((out[0]["ename"], out[0]["evalue"]), ("RangeError", "too big"))
        out = stderr_to_error([stderr("a string\n")])
        self.assertEqual((out[0]["ename"], out[0]["evalue"]), ("Error", "a string"))
        out = stderr_to_error([stdout("x\n")])
        self.assertEqual(out[0], stdout("x\n"))
        self.assertEqual(out[1]["evalue"], "the cell failed and wrote nothing to stderr")

    def test_a_printed_line_with_a_colon_is_not_taken_for_the_error(self):
        out = stderr_to_error([stderr("note: something\nTypeError: real\n" + FRAMES)])
        self.assertEqual(out[0], stderr("note: something\n"))
        self.assertEqual((out[1]["ename"], out[1]["evalue"]), ("TypeError", "real"))


if __name__ == "__main__":
    unittest.main()
