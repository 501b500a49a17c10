package samcheck

import "testing"

// The optional custom domain: a regional domain with the certificate
// given, the stage mapped at its root (the pages' absolute paths need it),
// and an alias record when a hosted zone is given; nothing when no domain
// is. The cookies need no change: __Host- cookies carry no Domain and bind
// to whatever host serves them.
func TestCustomDomainIsOptionalAndComplete(t *testing.T) {
	tp := loadTemplate(t)
	for _, p := range []string{"DomainName", "CertificateArn", "HostedZoneId"} {
		if d := get(get(tp.params, p), "Default"); d == nil || d.Value != "" {
			t.Errorf("parameter %s must default to empty (no custom domain)", p)
		}
	}
	dom := tp.resources["ApiDomain"]
	dp := get(dom, "Properties")
	if scalar(get(dom, "Type")) != "AWS::ApiGateway::DomainName" || scalar(get(dom, "Condition")) != "HasDomain" ||
		ref(get(dp, "DomainName")) != "DomainName" || ref(get(dp, "RegionalCertificateArn")) != "CertificateArn" ||
		scalar(get(dp, "SecurityPolicy")) != "TLS_1_2" {
		t.Errorf("%s: ApiDomain must be a HasDomain AWS::ApiGateway::DomainName of !Ref DomainName with !Ref CertificateArn, TLS 1.2", where(dom))
	}
	if types := scalars(get(get(dp, "EndpointConfiguration"), "Types")); len(types) != 1 || types[0] != "REGIONAL" {
		t.Errorf("%s: ApiDomain must be REGIONAL (a CloudFront edge in front would make every per-IP limit key on CloudFront's addresses)", where(dom))
	}
	m := tp.resources["ApiDomainMapping"]
	mp := get(m, "Properties")
	if scalar(get(m, "Condition")) != "HasDomain" || ref(get(mp, "DomainName")) != "ApiDomain" || ref(get(mp, "RestApiId")) != "Api" || get(mp, "BasePath") != nil {
		t.Errorf("%s: ApiDomainMapping must map the Api at the root of ApiDomain, with HasDomain", where(m))
	}
	r := tp.resources["ApiDomainRecord"]
	rp := get(r, "Properties")
	at := get(rp, "AliasTarget")
	if scalar(get(r, "Type")) != "AWS::Route53::RecordSet" || scalar(get(r, "Condition")) != "HasDnsRecord" ||
		ref(get(rp, "HostedZoneId")) != "HostedZoneId" || ref(get(rp, "Name")) != "DomainName" || scalar(get(rp, "Type")) != "A" ||
		get(at, "DNSName").Value != "ApiDomain.RegionalDomainName" || get(at, "HostedZoneId").Value != "ApiDomain.RegionalHostedZoneId" {
		t.Errorf("%s: ApiDomainRecord must be an alias A record for !Ref DomainName in !Ref HostedZoneId to ApiDomain's regional name, with HasDnsRecord", where(r))
	}
}
