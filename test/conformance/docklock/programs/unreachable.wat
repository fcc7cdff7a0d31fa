;; The program's own `unreachable`: trap unreachable (not out_of_fuel: the why-global is not set).
(module
  (func (export "run")
    unreachable))
