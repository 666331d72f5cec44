package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

type wireUser struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
	State    string `json:"state"`
}

func (w wireUser) model() *User {
	return &User{ID: w.ID, Name: w.Name, Email: w.Email, Username: w.Username, State: w.State}
}

// GetUser reads one user by id.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	if err := ValidateID("user id", userID); err != nil {
		return nil, err
	}
	req := apiRequest{op: opGetUser, method: http.MethodGet, path: "/api/v2/users/" + url.PathEscape(userID)}
	var w wireUser
	resp, err := c.do(ctx, req, &w)
	if err != nil {
		return nil, err
	}
	if w.ID == "" {
		return nil, &DecodeError{Operation: req.op, Status: resp.status, ContentType: "application/json", CorrelationID: resp.correlationID, Err: fmt.Errorf("user has no id")}
	}
	return w.model(), nil
}

type userSearchCriteria struct {
	Type   string   `json:"type"`
	Fields []string `json:"fields"`
	Value  string   `json:"value"`
}

type userSearchRequest struct {
	Query []userSearchCriteria `json:"query"`
}

type userSearchResponse struct {
	Total   int        `json:"total"`
	Results []wireUser `json:"results"`
}

// FindUserByEmail finds the user whose e-mail address is email. It fails
// with an error wrapping ErrUserNotFound when there is none.
func (c *Client) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	email = strings.TrimSpace(email)
	if err := validateEmail(email); err != nil {
		return nil, err
	}
	body, err := json.Marshal(userSearchRequest{Query: []userSearchCriteria{{Type: "EXACT", Fields: []string{"email"}, Value: email}}})
	if err != nil {
		return nil, err
	}
	req := apiRequest{op: opSearchUsers, method: http.MethodPost, path: "/api/v2/users/search", body: body}
	var w userSearchResponse
	if _, err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	// EXACT on e-mail should return at most the one user, but do not trust a
	// search engine with a disconnect: require the address to really match.
	for _, u := range w.Results {
		if u.ID != "" && strings.EqualFold(strings.TrimSpace(u.Email), email) {
			return u.model(), nil
		}
	}
	return nil, fmt.Errorf("%w with e-mail %q", ErrUserNotFound, shorten(email, 100))
}
