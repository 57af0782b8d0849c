// Tests of SchedulerConfig decoding, defaults and errors.
import XCTest
@testable import Schedulers
