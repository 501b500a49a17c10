package dynamo

// SetMaxEventQueries sets the Query budget of one QueryEvents for a test
// and returns the function that restores it.
func SetMaxEventQueries(n int) (restore func()) {
	old := maxEventQueries
	maxEventQueries = n
	return func() { maxEventQueries = old }
}

// SetMaxListQueries sets the Query budget of one ListAccounts for a test
// and returns the function that restores it.
func SetMaxListQueries(n int) (restore func()) {
	old := maxListQueries
	maxListQueries = n
	return func() { maxListQueries = old }
}
