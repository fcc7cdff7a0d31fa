;; i32.div_s INT_MIN / -1 (the quotient 2^31 does not fit): trap integer_overflow.
(module
  (global $min (mut i32) (i32.const 0x80000000))
  (global $minus1 (mut i32) (i32.const -1))
  (func (export "run")
    (drop (i32.div_s (global.get $min) (global.get $minus1)))))
