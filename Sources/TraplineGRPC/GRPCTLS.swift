import GRPCNIOTransportHTTP2Posix
@_spi(Plumbing) import Trapline
import TraplineTLS

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
