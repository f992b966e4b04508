package postgres

// Contains is PostgreSQL's strpos, which compares characters exactly.
func (dialect) Contains(s, sub string) string { return "strpos(" + s + ", " + sub + ") > 0" }
