package sqlite

// Contains is SQLite's instr, which compares code points (of UTF-8 text).
func (dialect) Contains(s, sub string) string { return "instr(" + s + ", " + sub + ") > 0" }
