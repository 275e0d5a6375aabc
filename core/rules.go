package core

import (
	"strconv"
	"strings"
)

// ParsePriorityRange reads "50-99", "80" (80 and above) or "-20" (up to 20).
func ParsePriorityRange(s string) (int, int, error) {
	bad := Errorf(CodeInvalid, "%q is not a priority range such as 50-99 (priorities run 0 to %d)", s, MaxPriority)
	s = strings.TrimSpace(s)
	lo, hi := 0, MaxPriority
	a, b, ranged := strings.Cut(s, "-")
	if strings.TrimSpace(a) == "" && strings.TrimSpace(b) == "" {
		return 0, 0, bad
	}
	var err error
	if a != "" {
		if lo, err = strconv.Atoi(strings.TrimSpace(a)); err != nil {
			return 0, 0, bad
		}
	}
	if ranged {
		if b != "" {
			if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
				return 0, 0, bad
			}
		}
	} else if a == "" {
		return 0, 0, bad
	}
	if lo < 0 || hi > MaxPriority || lo > hi {
		return 0, 0, bad
	}
	return lo, hi, nil
}
