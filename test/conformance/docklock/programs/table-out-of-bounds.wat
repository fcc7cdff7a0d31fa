;; call_indirect at index 2 of a 2-entry table: trap table_out_of_bounds.
(module
  (type $v (func))
  (table 2 funcref)
  (elem (i32.const 0) $a $a)
  (func $a)
  (func (export "run")
    (call_indirect (type $v) (i32.const 2))))
