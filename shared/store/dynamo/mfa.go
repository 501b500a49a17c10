package dynamo

// The second factor's items (mfa.Store), beside those of dynamo.go:
//
//	factor         PK=ACCT#<realm>#<account id>  SK=MFA#FACTOR#<id>   expires_at (TTL, pending only)
//	enrollment     PK=ACCT#<realm>#<account id>  SK=MFA#ENROLLMENT    v, active, recovery (string set of hashes)
//	mfa token      PK=ACCT#<realm>#<account id>  SK=MFATOKEN#<id>     expires_at (TTL)
//	passkey claim  PK=PASSKEY#<realm>#<credential id, base64url>  SK=CLAIM  account_id, factor_id
//	ceremony       PK=CEREMONY#<realm>#<sha256 of the challenge>  SK=CEREMONY  expires_at (TTL)
//
// and, on session items, second_factor and authenticated_at.
//
// An account's factors and its enrollment share the prefix MFA#, so one
// strongly consistent Query reads them together. Recovery codes are a
// string set on the enrollment: using one is one conditional DELETE of
// its hash from the set. Passkey claims make a credential id unique in its
// realm and find a passkey-only login's factor by the credential alone.

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
)

var _ mfa.Store = (*Store)(nil)

const (
	// Session attributes of the second factor (item.go writes them).
	attrSecondFactor    = "second_factor"
	attrAuthenticatedAt = "authenticated_at"

	skMFAPrefix      = "MFA#"
	skFactorPrefix   = "MFA#FACTOR#"
	skEnrollment     = "MFA#ENROLLMENT"
	skMFATokenPrefix = "MFATOKEN#"
	skCeremony       = "CEREMONY"
)

func factorKey(realm account.Realm, accountID, id string) map[string]types.AttributeValue {
	return key(accountPK(realm, accountID), skFactorPrefix+id)
}

func enrollmentKey(realm account.Realm, accountID string) map[string]types.AttributeValue {
	return key(accountPK(realm, accountID), skEnrollment)
}

func mfaTokenKey(realm account.Realm, accountID, id string) map[string]types.AttributeValue {
	return key(accountPK(realm, accountID), skMFATokenPrefix+id)
}

func passkeyKey(realm account.Realm, credentialID []byte) map[string]types.AttributeValue {
	return key("PASSKEY#"+string(realm)+"#"+base64.RawURLEncoding.EncodeToString(credentialID), skClaim)
}

func ceremonyKey(realm account.Realm, k string) map[string]types.AttributeValue {
	return key("CEREMONY#"+string(realm)+"#"+k, skCeremony)
}

// bin stores bytes; none, no attribute.
func (it item) bin(name string, v []byte) {
	if len(v) > 0 {
		it[name] = &types.AttributeValueMemberB{Value: v}
	}
}

func (it item) getBin(name string) []byte {
	if v, ok := it[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func factorItem(f mfa.Factor) item {
	it := item{
		attrPK: str(accountPK(f.Realm, f.AccountID)),
		attrSK: str(skFactorPrefix + f.ID),
	}
	it.s("realm", string(f.Realm))
	it.s("account_id", f.AccountID)
	it.s("id", f.ID)
	it.s("factor_type", string(f.Type))
	it.s("factor_name", f.Name)
	it.s("factor_state", string(f.State))
	it.t("created_at", f.CreatedAt)
	it.t("last_used_at", f.LastUsedAt)
	it.t("factor_expires_at", f.ExpiresAt)
	it.s("secret", f.Secret)
	it.n("last_step", f.LastStep)
	if p := f.Passkey; p != nil {
		it.bin("credential_id", p.CredentialID)
		it.bin("public_key", p.PublicKey)
		it.n("sign_count", int64(p.SignCount))
		it.bin("aaguid", p.AAGUID)
		it.list("transports", p.Transports)
		it.s("attestation_type", p.AttestationType)
		it.b("user_verified", p.UserVerified)
		it.b("backup_eligible", p.BackupEligible)
		it.b("backup_state", p.BackupState)
	}
	it.ttl(f.ExpiresAt) // a pending factor lapses; an active one has none
	return it
}

func factorFrom(it item) mfa.Factor {
	f := mfa.Factor{
		Realm:      account.Realm(it.getS("realm")),
		AccountID:  it.getS("account_id"),
		ID:         it.getS("id"),
		Type:       mfa.Type(it.getS("factor_type")),
		Name:       it.getS("factor_name"),
		State:      mfa.State(it.getS("factor_state")),
		CreatedAt:  it.getT("created_at"),
		LastUsedAt: it.getT("last_used_at"),
		ExpiresAt:  it.getT("factor_expires_at"),
		Secret:     it.getS("secret"),
		LastStep:   it.getN("last_step"),
	}
	if f.Type == mfa.WebAuthn {
		f.Passkey = &mfa.Passkey{
			CredentialID:    it.getBin("credential_id"),
			PublicKey:       it.getBin("public_key"),
			SignCount:       uint32(it.getN("sign_count")),
			AAGUID:          it.getBin("aaguid"),
			Transports:      it.getList("transports"),
			AttestationType: it.getS("attestation_type"),
			UserVerified:    it.getB("user_verified"),
			BackupEligible:  it.getB("backup_eligible"),
			BackupState:     it.getB("backup_state"),
		}
	}
	return f
}

// enrollmentItem is e as it is stored by a write that moves its version on.
func enrollmentItem(e mfa.Enrollment) item {
	it := item{
		attrPK: str(accountPK(e.Realm, e.AccountID)),
		attrSK: str(skEnrollment),
	}
	it.s("realm", string(e.Realm))
	it.s("account_id", e.AccountID)
	it.n("v", e.Version+1)
	it.n("active", int64(e.Active))
	if len(e.Recovery) > 0 {
		it["recovery"] = &types.AttributeValueMemberSS{Value: e.Recovery}
	}
	it.s("recovery_key", e.RecoveryKey)
	it.t("recovery_at", e.RecoveryAt)
	return it
}

func enrollmentFrom(realm account.Realm, accountID string, it item) mfa.Enrollment {
	e := mfa.Enrollment{
		Realm: realm, AccountID: accountID,
		Version:     it.getN("v"),
		Active:      int(it.getN("active")),
		RecoveryKey: it.getS("recovery_key"),
		RecoveryAt:  it.getT("recovery_at"),
	}
	if ss, ok := it["recovery"].(*types.AttributeValueMemberSS); ok {
		e.Recovery = slices.Sorted(slices.Values(ss.Value))
	}
	return e
}

// putEnrollment writes e with its version moved on, on condition the
// stored version is still e.Version.
func (s *Store) putEnrollment(e mfa.Enrollment) types.TransactWriteItem {
	cond, vals := enrollmentIs(e)
	return types.TransactWriteItem{Put: &types.Put{TableName: s.table, Item: enrollmentItem(e), ConditionExpression: cond, ExpressionAttributeValues: vals}}
}

// enrollmentIs is the condition that the stored enrollment is still
// e.Version (none stored: version 0).
func enrollmentIs(e mfa.Enrollment) (*string, map[string]types.AttributeValue) {
	if e.Version == 0 {
		return aws.String("attribute_not_exists(PK)"), nil
	}
	return aws.String("v = :v"), map[string]types.AttributeValue{":v": num(e.Version)}
}

func claimPasskeyItem(f mfa.Factor) item {
	it := item(passkeyKey(f.Realm, f.Passkey.CredentialID))
	it.s("account_id", f.AccountID)
	it.s("factor_id", f.ID)
	return it
}

// Factors implements mfa.Store with one strongly consistent Query of the
// account's MFA# items (every page of it).
func (s *Store) Factors(ctx context.Context, realm account.Realm, accountID string) (mfa.Enrollment, []mfa.Factor, error) {
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(realm, accountID)), ":sk": str(skMFAPrefix),
		},
	}
	e := mfa.Enrollment{Realm: realm, AccountID: accountID}
	var fs []mfa.Factor
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return mfa.Enrollment{}, nil, unavailable(ctx, "Factors", err)
		}
		for _, it := range out.Items {
			if item(it).getS(attrSK) == skEnrollment {
				e = enrollmentFrom(realm, accountID, it)
			} else {
				fs = append(fs, factorFrom(it))
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortFunc(fs, func(a, b mfa.Factor) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return e, fs, nil
}

// GetFactor implements mfa.Store.
func (s *Store) GetFactor(ctx context.Context, realm account.Realm, accountID, id string) (mfa.Factor, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: factorKey(realm, accountID, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return mfa.Factor{}, unavailable(ctx, "GetFactor", err)
	}
	if len(out.Item) == 0 {
		return mfa.Factor{}, store.ErrNotFound
	}
	return factorFrom(out.Item), nil
}

// CreateFactor implements mfa.Store.
func (s *Store) CreateFactor(ctx context.Context, f mfa.Factor) error {
	return s.putNew(ctx, "CreateFactor", factorItem(f))
}

// ConfirmFactor implements mfa.Store in one transaction: the factor put
// (on condition it is still pending) and the enrollment put.
func (s *Store) ConfirmFactor(ctx context.Context, f mfa.Factor, e mfa.Enrollment) error {
	return s.transact(ctx, "ConfirmFactor", []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                           s.table,
			Item:                                factorItem(f),
			ConditionExpression:                 aws.String("factor_state = :pending"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":pending": str(string(mfa.Pending))},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		s.putEnrollment(e),
	}, func(i int, old map[string]types.AttributeValue) error {
		if i == 0 {
			return conditionFailed(old)
		}
		return store.ErrConflict
	})
}

// AddPasskey implements mfa.Store in one transaction: the factor, its
// claim (each on condition it is new) and the enrollment.
func (s *Store) AddPasskey(ctx context.Context, f mfa.Factor, e mfa.Enrollment) error {
	notExists := aws.String("attribute_not_exists(PK)")
	return s.transact(ctx, "AddPasskey", []types.TransactWriteItem{
		{Put: &types.Put{TableName: s.table, Item: factorItem(f), ConditionExpression: notExists}},
		{Put: &types.Put{TableName: s.table, Item: claimPasskeyItem(f), ConditionExpression: notExists}},
		s.putEnrollment(e),
	}, func(int, map[string]types.AttributeValue) error { return store.ErrConflict })
}

// RemoveFactor implements mfa.Store in one transaction: the factor's
// deletion (on condition it exists), its claim's, and the enrollment put.
func (s *Store) RemoveFactor(ctx context.Context, f mfa.Factor, e mfa.Enrollment) error {
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                           s.table,
			Key:                                 factorKey(f.Realm, f.AccountID, f.ID),
			ConditionExpression:                 aws.String("attribute_exists(PK)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		s.putEnrollment(e),
	}
	if f.Passkey != nil {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: s.table, Key: passkeyKey(f.Realm, f.Passkey.CredentialID),
		}})
	}
	return s.transact(ctx, "RemoveFactor", items, func(i int, old map[string]types.AttributeValue) error {
		if i == 0 {
			return conditionFailed(old)
		}
		return store.ErrConflict
	})
}

// ReplaceRecovery implements mfa.Store with one conditional PutItem.
func (s *Store) ReplaceRecovery(ctx context.Context, e mfa.Enrollment) error {
	p := s.putEnrollment(e).Put
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: p.TableName, Item: p.Item,
		ConditionExpression: p.ConditionExpression, ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	err = conditionalWrite(ctx, "ReplaceRecovery", err)
	if errors.Is(err, store.ErrNotFound) {
		// The version condition failed: the enrollment changed.
		return store.ErrConflict
	}
	return err
}

// UseRecoveryCode implements mfa.Store with one conditional UpdateItem
// that deletes the hash from the set and moves the version on.
func (s *Store) UseRecoveryCode(ctx context.Context, realm account.Realm, accountID, hash string) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 enrollmentKey(realm, accountID),
		UpdateExpression:    aws.String("DELETE recovery :h SET v = v + :one"),
		ConditionExpression: aws.String("contains(recovery, :code)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h": &types.AttributeValueMemberSS{Value: []string{hash}}, ":code": str(hash), ":one": num(1),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "UseRecoveryCode", err)
}

// UseTOTPStep implements mfa.Store with one conditional UpdateItem.
func (s *Store) UseTOTPStep(ctx context.Context, f mfa.Factor, step int64) error {
	vals := item{":step": num(step), ":active": str(string(mfa.Active)), ":secret": str(f.Secret)}
	set := "SET last_step = :step, secret = :secret"
	if !f.LastUsedAt.IsZero() {
		vals.t(":at", f.LastUsedAt)
		set += ", last_used_at = :at"
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 factorKey(f.Realm, f.AccountID, f.ID),
		UpdateExpression:                    aws.String(set),
		ConditionExpression:                 aws.String("factor_state = :active AND last_step < :step"),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "UseTOTPStep", err)
}

// RenameFactor implements mfa.Store with one conditional UpdateItem.
func (s *Store) RenameFactor(ctx context.Context, f mfa.Factor) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 factorKey(f.Realm, f.AccountID, f.ID),
		UpdateExpression:                    aws.String("SET factor_name = :n"),
		ConditionExpression:                 aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":n": str(f.Name)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "RenameFactor", err)
}

// ClearFactors implements mfa.Store as an account write (writeAccount):
// the account with a new session epoch, the deletion of its sessions, of
// fs and their passkey claims, and of the enrollment on its version, in
// one transaction, except that more than fit in one are deleted first in
// batches, as writeAccount says.
func (s *Store) ClearFactors(ctx context.Context, a account.Account, e mfa.Enrollment, fs []mfa.Factor) (int, error) {
	w := accountWrite{enrollment: &e}
	if err := s.readSessions(ctx, "ClearFactors", a, nil, &w); err != nil {
		return 0, err
	}
	for _, f := range fs {
		w.drop = append(w.drop, factorKey(f.Realm, f.AccountID, f.ID))
		if f.Passkey != nil {
			w.drop = append(w.drop, passkeyKey(f.Realm, f.Passkey.CredentialID))
		}
	}
	if err := s.writeAccount(ctx, "ClearFactors", a, w); err != nil {
		return 0, err
	}
	return len(w.end), nil
}

// deleteEnrollment deletes e's item on condition the stored version is
// still e.Version (none stored: nothing to delete).
func (s *Store) deleteEnrollment(e mfa.Enrollment) types.TransactWriteItem {
	cond, vals := enrollmentIs(e)
	return types.TransactWriteItem{Delete: &types.Delete{TableName: s.table, Key: enrollmentKey(e.Realm, e.AccountID), ConditionExpression: cond, ExpressionAttributeValues: vals}}
}

// UsePasskey implements mfa.Store with one conditional UpdateItem.
func (s *Store) UsePasskey(ctx context.Context, f mfa.Factor, readCount uint32) error {
	if f.Passkey == nil {
		return store.ErrNotFound
	}
	vals := item{
		":n": num(int64(f.Passkey.SignCount)), ":old": num(int64(readCount)),
		":bs": &types.AttributeValueMemberBOOL{Value: f.Passkey.BackupState},
	}
	set := "SET sign_count = :n, backup_state = :bs"
	if !f.LastUsedAt.IsZero() {
		vals.t(":at", f.LastUsedAt)
		set += ", last_used_at = :at"
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 factorKey(f.Realm, f.AccountID, f.ID),
		UpdateExpression:                    aws.String(set),
		ConditionExpression:                 aws.String("attribute_exists(PK) AND sign_count = :old"),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "UsePasskey", err)
}

// LookupPasskey implements mfa.Store: the claim, then the factor it names
// (two strongly consistent reads).
func (s *Store) LookupPasskey(ctx context.Context, realm account.Realm, credentialID []byte) (mfa.Factor, error) {
	if len(credentialID) == 0 {
		return mfa.Factor{}, store.ErrNotFound
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: passkeyKey(realm, credentialID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return mfa.Factor{}, unavailable(ctx, "LookupPasskey", err)
	}
	if len(out.Item) == 0 {
		return mfa.Factor{}, store.ErrNotFound
	}
	c := item(out.Item)
	return s.GetFactor(ctx, realm, c.getS("account_id"), c.getS("factor_id"))
}

func ceremonyItem(c mfa.Ceremony) item {
	it := item(ceremonyKey(c.Realm, c.Key))
	it.s("realm", string(c.Realm))
	it.s("key", c.Key)
	it.s("account_id", c.AccountID)
	it.s("purpose", string(c.Purpose))
	it.s("token_id", c.TokenID)
	it.bin("data", c.Data)
	it.t("created_at", c.CreatedAt)
	it.t("ceremony_expires_at", c.ExpiresAt)
	it.ttl(c.ExpiresAt)
	return it
}

func ceremonyFrom(it item) mfa.Ceremony {
	return mfa.Ceremony{
		Realm:     account.Realm(it.getS("realm")),
		Key:       it.getS("key"),
		AccountID: it.getS("account_id"),
		Purpose:   mfa.CeremonyPurpose(it.getS("purpose")),
		TokenID:   it.getS("token_id"),
		Data:      it.getBin("data"),
		CreatedAt: it.getT("created_at"),
		ExpiresAt: it.getT("ceremony_expires_at"),
	}
}

// PutCeremony implements mfa.Store.
func (s *Store) PutCeremony(ctx context.Context, c mfa.Ceremony) error {
	return s.putNew(ctx, "PutCeremony", ceremonyItem(c))
}

// TakeCeremony implements mfa.Store with one DeleteItem on condition the
// item exists, returning the old item.
func (s *Store) TakeCeremony(ctx context.Context, realm account.Realm, k string) (mfa.Ceremony, error) {
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           s.table,
		Key:                 ceremonyKey(realm, k),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	if err := conditionalWrite(ctx, "TakeCeremony", err); err != nil {
		return mfa.Ceremony{}, err
	}
	return ceremonyFrom(out.Attributes), nil
}

func mfaTokenItem(t mfa.TokenRecord) item {
	it := item(mfaTokenKey(t.Realm, t.AccountID, t.ID))
	it.s("realm", string(t.Realm))
	it.s("account_id", t.AccountID)
	it.s("id", t.ID)
	it.s("purpose", string(t.Purpose))
	it.s("identifier", t.Identifier)
	it.b("remember", t.Remember)
	it.n(attrEpoch, t.Epoch)
	it.n("attempts", int64(t.Attempts))
	it.t("created_at", t.CreatedAt)
	it.t("token_expires_at", t.ExpiresAt)
	it.ttl(t.ExpiresAt)
	return it
}

func mfaTokenFrom(it item) mfa.TokenRecord {
	return mfa.TokenRecord{
		Realm:      account.Realm(it.getS("realm")),
		AccountID:  it.getS("account_id"),
		ID:         it.getS("id"),
		Purpose:    mfa.TokenPurpose(it.getS("purpose")),
		Identifier: it.getS("identifier"),
		Remember:   it.getB("remember"),
		Epoch:      it.getN(attrEpoch),
		Attempts:   int(it.getN("attempts")),
		CreatedAt:  it.getT("created_at"),
		ExpiresAt:  it.getT("token_expires_at"),
	}
}

// PutMFAToken implements mfa.Store.
func (s *Store) PutMFAToken(ctx context.Context, t mfa.TokenRecord) error {
	return s.putNew(ctx, "PutMFAToken", mfaTokenItem(t))
}

// GetMFAToken implements mfa.Store.
func (s *Store) GetMFAToken(ctx context.Context, realm account.Realm, accountID, id string) (mfa.TokenRecord, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: mfaTokenKey(realm, accountID, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return mfa.TokenRecord{}, unavailable(ctx, "GetMFAToken", err)
	}
	if len(out.Item) == 0 {
		return mfa.TokenRecord{}, store.ErrNotFound
	}
	return mfaTokenFrom(out.Item), nil
}

// ReserveMFAAttempt implements mfa.Store with one conditional UpdateItem.
func (s *Store) ReserveMFAAttempt(ctx context.Context, t mfa.TokenRecord) (int, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 mfaTokenKey(t.Realm, t.AccountID, t.ID),
		UpdateExpression:                    aws.String("SET attempts = attempts + :one"),
		ConditionExpression:                 aws.String("attempts < :max"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1), ":max": num(mfa.MaxAttempts)},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err := conditionalWrite(ctx, "ReserveMFAAttempt", err); err != nil {
		return 0, err
	}
	return int(item(out.Attributes).getN("attempts")), nil
}

// ReleaseMFAAttempt implements mfa.Store with one conditional UpdateItem.
func (s *Store) ReleaseMFAAttempt(ctx context.Context, t mfa.TokenRecord) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 mfaTokenKey(t.Realm, t.AccountID, t.ID),
		UpdateExpression:                    aws.String("SET attempts = attempts - :one"),
		ConditionExpression:                 aws.String("attempts > :zero"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1), ":zero": num(0)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "ReleaseMFAAttempt", err)
}

// RedeemMFAToken implements mfa.Store with one conditional DeleteItem.
func (s *Store) RedeemMFAToken(ctx context.Context, t mfa.TokenRecord) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           s.table,
		Key:                                 mfaTokenKey(t.Realm, t.AccountID, t.ID),
		ConditionExpression:                 aws.String("attempts <= :max"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":max": num(mfa.MaxAttempts)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "RedeemMFAToken", err)
}

// Reauthenticate implements session.Store with one conditional UpdateItem.
func (s *Store) Reauthenticate(ctx context.Context, ss session.Session, at time.Time) error {
	vals := item{}
	vals.t(":at", at)
	if len(vals) == 0 {
		return errors.New("dynamo: Reauthenticate needs a non-zero time")
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 sessionKey(ss.Realm, ss.AccountID, ss.Key),
		UpdateExpression:                    aws.String("SET " + attrAuthenticatedAt + " = :at"),
		ConditionExpression:                 aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return conditionalWrite(ctx, "Reauthenticate", err)
}
