package certs

// LoadCA reads dir/ca.crt and dir/ca.key; unlike LoadOrCreateCA it never
// makes a CA. A missing file is an error that wraps os.ErrNotExist.
func LoadCA(dir string) (*CA, error) {
	kp, err := loadPair(dir, "ca")
	if err != nil {
		return nil, err
	}
	return &CA{*kp}, nil
}
