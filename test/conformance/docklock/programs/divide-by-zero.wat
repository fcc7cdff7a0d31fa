;; i32.div_u by zero: trap divide_by_zero. The operands come from globals so no compiler folds them.
(module
  (global $one (mut i32) (i32.const 1))
  (global $zero (mut i32) (i32.const 0))
  (func (export "run")
    (drop (i32.div_u (global.get $one) (global.get $zero)))))
