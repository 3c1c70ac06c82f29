//! Resolves `Authorization: Bearer <key>` to a [`Caller`] before any handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::AppError;
use crate::service::{Caller, keys};
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .map(|value| value.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal_msg("AppState missing".into()))?;
            match header {
                None => Ok(Caller::anonymous(state.public_read())),
                Some(Err(_)) => Err(AppError::Unauthorized(
                    "the Authorization header is not valid text".into(),
                )),
                Some(Ok(value)) => {
                    let token = value
                        .strip_prefix("Bearer ")
                        .or_else(|| value.strip_prefix("bearer "))
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| {
                            AppError::Unauthorized("use `Authorization: Bearer <api key>`".into())
                        })?;
                    keys::authenticate(&state.db, &state.key_usage, token).await
                }
            }
        })
    }
}
