// Library enums as enumerated option values: `--help` lists them and a bad value fails before run().
import ArgumentParser
import Pipelines
import TensorCore

extension ComputePrecision: ExpressibleByArgument {}
extension NoiseSpace: ExpressibleByArgument {}
