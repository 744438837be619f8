//! Certificates and keys for the sandbox: one CA, the API server's serving
//! certificate, client certificates per identity, and the service-account key.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A PEM certificate with its PEM private key.
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// Everything the control plane and its clients need.
pub struct Pki {
    pub ca: Pem,
    pub apiserver: Pem,
    pub admin: Pem,
    pub controller_manager: Pem,
    pub scheduler: Pem,
    pub viewer: Pem,
    pub sa_private: String,
    pub sa_public: String,
}

/// The restricted identity tests bind narrow roles to.
pub const VIEWER_USER: &str = "sts-viewer";

impl Pki {
    /// Generates a fresh PKI (ECDSA P-256 everywhere).
    pub fn generate() -> Result<Pki> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "kubectl-sts-sandbox-ca");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca = Pem {
            cert: ca_cert.pem(),
            key: ca_key.serialize_pem(),
        };
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |cn: &str, org: Option<&str>, server: bool| -> Result<Pem> {
            let key = KeyPair::generate()?;
            let sans = if server {
                vec![
                    "localhost".to_string(),
                    "kubernetes".to_string(),
                    "kubernetes.default".to_string(),
                    "kubernetes.default.svc".to_string(),
                    "kubernetes.default.svc.cluster.local".to_string(),
                ]
            } else {
                Vec::new()
            };
            let mut p = CertificateParams::new(sans)?;
            p.distinguished_name.push(DnType::CommonName, cn);
            if let Some(o) = org {
                p.distinguished_name.push(DnType::OrganizationName, o);
            }
            if server {
                p.subject_alt_names
                    .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
                p.subject_alt_names
                    .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1))));
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            } else {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            let cert = p.signed_by(&key, &issuer)?;
            Ok(Pem {
                cert: cert.pem(),
                key: key.serialize_pem(),
            })
        };

        let sa = KeyPair::generate()?;
        Ok(Pki {
            apiserver: leaf("kube-apiserver", None, true)?,
            admin: leaf("admin", Some("system:masters"), false)?,
            controller_manager: leaf("system:kube-controller-manager", None, false)?,
            scheduler: leaf("system:kube-scheduler", None, false)?,
            viewer: leaf(VIEWER_USER, None, false)?,
            sa_private: sa.serialize_pem(),
            sa_public: sa.public_key_pem(),
            ca,
        })
    }

    /// Writes the files the components read.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let files = [
            ("ca.crt", &self.ca.cert),
            ("ca.key", &self.ca.key),
            ("apiserver.crt", &self.apiserver.cert),
            ("apiserver.key", &self.apiserver.key),
            ("sa.key", &self.sa_private),
            ("sa.pub", &self.sa_public),
        ];
        for (name, body) in files {
            std::fs::write(dir.join(name), body).with_context(|| format!("writing {name}"))?;
        }
        Ok(())
    }
}
