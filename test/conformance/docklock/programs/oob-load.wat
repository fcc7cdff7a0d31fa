;; A 4-byte load at 65533 of a 1-page memory runs past its end: trap memory_out_of_bounds.
(module
  (memory 1)
  (func (export "run")
    (drop (i32.load (i32.const 65533)))))
