import GRPCNIOTransportHTTP2Posix
@_spi(Plumbing) import Trapline
import TraplineServer

extension ServerTLS {
    /// The transport security of a gRPC listener.
    func grpcSecurity() throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        let clientCA = settings.clientCAFile
        let configure = { (config: inout HTTP2ServerTransport.Posix.TransportSecurity.TLS) in
            if let clientCA {
                config.clientCertificateVerification = .noHostnameVerification
                config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
            }
        }
        if let reloader { return try .tls(certificateReloader: reloader, configure: configure) }
        return .tls(
            certificateChain: [.file(path: settings.certFile, format: .pem)],
            privateKey: .file(path: settings.keyFile, format: .pem), configure: configure)
    }

}

extension ClientTLS {
    /// Plaintext with `insecure`; else TLS against `ca_file` (or the system's roots), with the
    /// client certificate when there is one.
    static func grpcSecurity(_ tls: TLSClientSettings) -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard !tls.insecure else { return .plaintext }
        return .tls { config in
            if let caFile = tls.caFile { config.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
            config.serverCertificateVerification = tls.insecureSkipVerify ? .noVerification : .fullVerification
            if let certFile = tls.certFile, let keyFile = tls.keyFile {
                config.certificateChain = [.file(path: certFile, format: .pem)]
                config.privateKey = .file(path: keyFile, format: .pem)
            }
        }
    }

}
