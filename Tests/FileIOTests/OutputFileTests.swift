// OutputFile keeps what was at the path: permissions, links, devices and FIFOs, and reports failed writes.
import FileIO
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class OutputFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("output-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func status(_ url: URL) -> stat {
        var info = stat()
        XCTAssertEqual(lstat(url.path, &info), 0, "lstat \(url.path)")
        return info
    }

    func testNewFileGetsContentsAndUmaskMode() throws {
        let url = directory.appendingPathComponent("new.bin")
        try OutputFile.write([1, 2, 3], to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        let mask = umask(0); umask(mask)
        XCTAssertEqual(status(url).st_mode & 0o777, 0o666 & ~mask)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["new.bin"], "no temporary left")
    }

    func testReplacedFileKeepsItsMode() throws {
        let url = directory.appendingPathComponent("private.png")
        try Data([9]).write(to: url)
        XCTAssertEqual(chmod(url.path, 0o600), 0)
        try OutputFile.write([4, 5], to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([4, 5]))
        XCTAssertEqual(status(url).st_mode & 0o777, 0o600)
    }

    func testSymbolicLinkIsFollowedAndKept() throws {
        let target = directory.appendingPathComponent("real.png"), link = directory.appendingPathComponent("link.png")
        try Data([0]).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.png")
        try OutputFile.write([7, 7], to: link)
        XCTAssertEqual(status(link).st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        XCTAssertEqual(try Data(contentsOf: target), Data([7, 7]), "written through to its target")
    }

    func testHardLinksStayOneFile() throws {
        let first = directory.appendingPathComponent("a.png"), second = directory.appendingPathComponent("b.png")
        try Data([0]).write(to: first)
        XCTAssertEqual(link(first.path, second.path), 0)
        try OutputFile.write([3, 1, 4], to: first)
        XCTAssertEqual(try Data(contentsOf: second), Data([3, 1, 4]))
        XCTAssertEqual(status(first).st_ino, status(second).st_ino)
    }

    func testFIFOIsWrittenThrough() throws {
        let fifo = directory.appendingPathComponent("pipe")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let received = expectation(description: "reader got the bytes")
        let bytes = Received()
        Thread.detachNewThread {
            if let handle = FileHandle(forReadingAtPath: fifo.path) {
                bytes.data = handle.readDataToEndOfFile()
            }
            received.fulfill()
        }
        try OutputFile.write([42, 43], to: fifo)
        wait(for: [received], timeout: 10)
        XCTAssertEqual(bytes.data, Data([42, 43]))
        XCTAssertEqual(status(fifo).st_mode & S_IFMT, S_IFIFO, "still a FIFO")
    }

    func testDeviceIsWrittenThroughAndAFullDeviceFails() throws {
        try OutputFile.write([1], to: URL(fileURLWithPath: "/dev/null"))
        XCTAssertEqual(status(URL(fileURLWithPath: "/dev/null")).st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
        XCTAssertThrowsError(try OutputFile.write([1], to: URL(fileURLWithPath: "/dev/full"))) { error in
            XCTAssertTrue("\(error)".contains("/dev/full") && "\(error)".contains("space"), "\(error)")
        }
    }

    func testDirectoryAndEmptyPathAreErrors() {
        XCTAssertThrowsError(try OutputFile.write([1], to: directory)) { XCTAssertTrue("\($0)".contains("directory"), "\($0)") }
        XCTAssertThrowsError(try OutputFile.write([1], to: URL(fileURLWithPath: directory.path + "/missing/x.png"))) {
            XCTAssertTrue("\($0)".contains("missing/x.png"), "\($0)")
        }
    }

    func testStaleTemporariesOfDeadWritersAreRemoved() throws {
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let stale = directory.appendingPathComponent(".checkpoint.safetensors.tmp-\(finished.processIdentifier)-1")
        let live = directory.appendingPathComponent(".checkpoint.safetensors.tmp-\(getpid())-2")
        let other = directory.appendingPathComponent(".other.tmp-\(finished.processIdentifier)-3")
        for file in [stale, live, other] { try Data([0]).write(to: file) }
        OutputFile.removeStaleTemporaries(besides: url)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        XCTAssertEqual(left, [live.lastPathComponent, other.lastPathComponent])
    }
}

/// What the FIFO's reader thread read (set before the expectation is fulfilled, read after).
private final class Received: @unchecked Sendable {
    var data = Data()
}
