package sqlstore

import "context"

const (
	sqlInsertSecret = "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
	sqlSecret       = "SELECT value FROM server_secrets WHERE name = ?"
)

// Secret returns the server secret called name, storing value as it when
// there is none yet: the first instance to ask decides, and every instance
// sharing the database gets the same secret.
func (s *Store) Secret(ctx context.Context, name string, value []byte) ([]byte, error) {
	if err := s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, sqlInsertSecret, name, value)
		return nil
	}); err != nil {
		return nil, err
	}
	var got []byte
	if err := s.q.QueryRow(ctx, sqlSecret, name).Scan(&got); err != nil {
		return nil, err
	}
	return got, nil
}
