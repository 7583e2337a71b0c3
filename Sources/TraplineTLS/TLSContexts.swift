import NIOCertificateReloading
import NIOCore
import NIOSSL
import Synchronization
@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineServer

/// One receiver's TLS: NIOSSL contexts for its HTTP and gRPC listeners, from the same files.
/// With `reload_interval` both read the certificate and key through one reloader, so a
/// certificate rotated on disk is presented to the next handshake without a restart.
final class ServerTLS: ListenerTLS {
    let settings: TLSServerSettings
    /// The reloader both listeners read through (`reload_interval`), if any.
    let reloader: TimedCertificateReloader?
    private let reloading = Mutex<Task<Void, any Error>?>(nil)

    /// Reads the files now (a bad file fails the start, not the first handshake).
    init(settings: TLSServerSettings) throws {
        self.settings = settings
        if let interval = settings.reloadIntervalSeconds {
            let reloader = try TimedCertificateReloader.makeReloaderValidatingSources(
                refreshInterval: .milliseconds(Int64(interval * 1000)),
                certificateSource: .init(location: .file(path: settings.certFile), format: .pem),
                privateKeySource: .init(location: .file(path: settings.keyFile), format: .pem))
            self.reloader = reloader
            reloading.withLock { $0 = Task { try await reloader.run() } }
        } else {
            reloader = nil
            _ = try NIOSSLCertificate.fromPEMFile(settings.certFile)
            _ = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)
        }
    }

    /// A NIOSSL context for a listener; `applicationProtocols` are offered by ALPN (`h2` for
    /// gRPC).
    func makeContext(applicationProtocols: [String] = []) throws -> NIOSSLContext {
        var configuration: TLSConfiguration
        if let reloader {
            configuration = try TLSConfiguration.makeServerConfiguration(certificateReloader: reloader)
        } else {
            configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(settings.certFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)))
        }
        configuration.minimumTLSVersion = settings.minimumVersion == .v1_3 ? .tlsv13 : .tlsv12
        configuration.applicationProtocols = applicationProtocols
        if let clientCA = settings.clientCAFile {
            // mTLS: a client must present a certificate chaining to the CA (clients have no host
            // name to check).
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(clientCA)
        }
        return try NIOSSLContext(configuration: configuration)
    }

    func handlerFactory(applicationProtocols: [String]) throws -> @Sendable () -> any ChannelHandler {
        let context = try makeContext(applicationProtocols: applicationProtocols)
        return { NIOSSLServerHandler(context: context) }
    }

    /// Stops reloading.
    func stop() { reloading.withLock { $0?.cancel() } }
}

/// An exporter's TLS, for its gRPC transport and its HTTP client.
package enum ClientTLS {
    /// The NIOSSL configuration of an HTTPS client.
    static func configuration(_ tls: TLSClientSettings) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = tls.minimumVersion == .v1_3 ? .tlsv13 : .tlsv12
        if let caFile = tls.caFile { configuration.trustRoots = .file(caFile) }
        if tls.insecureSkipVerify { configuration.certificateVerification = .none }
        if let certFile = tls.certFile, let keyFile = tls.keyFile {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        return configuration
    }
}
