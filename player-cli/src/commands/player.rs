//! `player create|get|list|update|delete`: one player at a time, and paged lists.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use diesel::Connection;
use diesel::mysql::MysqlConnection;
use player_core::db::DatabaseUrl;
use player_core::models::PlayerChanges;
use player_core::{NewPlayer, Player, PlayerId, players};
use serde::Serialize;

use crate::args;
use crate::commands::{read_step, step, write_json};
use crate::text::{self, Escaped};

/// `player` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlayerCommand {
    /// Create a player and print it.
    Create(CreateArgs),
    /// Print one player.
    Get(GetArgs),
    /// Print players ordered by id, one page at a time.
    List(ListArgs),
    /// Set a player's coins and/or goods, and print the player.
    #[command(group(ArgGroup::new("changes").required(true).multiple(true).args(["coins", "goods"])))]
    Update(UpdateArgs),
    /// Delete a player.
    Delete(DeleteArgs),
}

impl PlayerCommand {
    /// True for create, update and delete.
    pub fn changes_data(&self) -> bool {
        !matches!(self, Self::Get(_) | Self::List(_))
    }
}

/// Arguments of `player create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Id of the new player (1 to 36 characters) [default: a random UUID].
    #[arg(allow_negative_numbers = true)]
    pub id: Option<PlayerId>,
    /// Coins to start with.
    #[arg(long, default_value = "0", allow_negative_numbers = true, value_parser = args::balance)]
    pub coins: i32,
    /// Goods to start with.
    #[arg(long, default_value = "0", allow_negative_numbers = true, value_parser = args::balance)]
    pub goods: i32,
    /// Print the player as a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// Print a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Start after this id (pass the last id of a page to get the next one).
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub after: Option<PlayerId>,
    /// Players per page.
    #[arg(long, default_value = "20", allow_negative_numbers = true, value_parser = args::page_size)]
    pub limit: u32,
    /// Print a JSON array instead of the tutorial's lines.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// New coins.
    #[arg(long, allow_negative_numbers = true, value_parser = args::balance)]
    pub coins: Option<i32>,
    /// New goods.
    #[arg(long, allow_negative_numbers = true, value_parser = args::balance)]
    pub goods: Option<i32>,
    /// Print the player as a JSON object instead of the tutorial's line.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `player delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Id of the player.
    #[arg(allow_negative_numbers = true)]
    pub id: PlayerId,
    /// Print a JSON object instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// Runtime errors of the `player` commands besides the library's.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// No player has this id.
    #[error("no player with id {0:?}")]
    NotFound(PlayerId),
}

/// A player as `--json` prints it: `{"id":"alice","coins":100,"goods":0}`.
#[derive(Debug, Serialize)]
pub struct PlayerJson<'a> {
    /// Id, verbatim.
    pub id: &'a str,
    /// Coins held.
    pub coins: i32,
    /// Goods held.
    pub goods: i32,
}

/// What `player delete --json` prints: `{"id":"alice","deleted":true}`.
#[derive(Debug, Serialize)]
pub struct DeletedJson<'a> {
    /// Id of the player deleted.
    pub id: &'a str,
    /// Always true: a player that does not exist is an error.
    pub deleted: bool,
}

impl<'a> From<&'a Player> for PlayerJson<'a> {
    fn from(p: &'a Player) -> Self {
        Self {
            id: p.id.as_str(),
            coins: p.coins,
            goods: p.goods,
        }
    }
}

/// Runs one `player` subcommand, printing to `out`. Its database work is one
/// step given `stall` (see [`super::step`]).
pub fn run(
    cmd: PlayerCommand,
    url: &DatabaseUrl,
    stall: Duration,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut conn = player_guard::connect_guarded(url)?;
    let conn = &mut conn;
    match cmd {
        PlayerCommand::Create(a) => {
            let new = match a.id {
                Some(id) => NewPlayer::new(id, a.coins, a.goods),
                None => NewPlayer::random(a.coins, a.goods),
            };
            step(conn, stall, |c| create(c, &new))?;
            let created = Player {
                id: new.id,
                coins: new.coins,
                goods: new.goods,
            };
            print_player(out, &created, a.json)
        }
        PlayerCommand::Get(a) => {
            let player = read_step(conn, stall, |c| find(c, &a.id))?;
            print_player(out, &player, a.json)
        }
        PlayerCommand::List(a) => {
            let page = read_step(conn, stall, |c| {
                players::list(c, a.after.as_ref(), a.limit).context("cannot list players")
            })?;
            print_players(out, &page, a.json)
        }
        PlayerCommand::Update(a) => {
            let changes = PlayerChanges {
                coins: a.coins,
                goods: a.goods,
            };
            let player = step(conn, stall, |c| update(c, &a.id, &changes))?;
            print_player(out, &player, a.json)
        }
        PlayerCommand::Delete(a) => {
            let stored = step(conn, stall, |c| delete(c, &a.id))?;
            if a.json {
                let deleted = DeletedJson {
                    id: stored.as_str(),
                    deleted: true,
                };
                return write_json(out, &deleted);
            }
            writeln!(out, "deleted player {}", Escaped(stored.as_str()))?;
            Ok(())
        }
    }
}

fn create(conn: &mut MysqlConnection, new: &NewPlayer) -> anyhow::Result<()> {
    players::create(conn, new).map_err(|e| match e {
        e @ player_core::Error::AlreadyExists(_) => e.into(),
        e => anyhow::Error::new(e).context("cannot create the player"),
    })
}

/// Sets the changes and reads the player back, in one transaction: the row
/// stays locked from the `UPDATE` to the read, so what is printed is what this
/// update left, not a concurrent trade's result.
fn update(
    conn: &mut MysqlConnection,
    id: &PlayerId,
    changes: &PlayerChanges,
) -> anyhow::Result<Player> {
    conn.transaction(|conn| {
        if !players::update(conn, id, changes)? {
            return Ok(None);
        }
        Ok::<_, player_core::Error>(players::get(conn, id)?)
    })
    .context("cannot update the player")?
    .ok_or_else(|| PlayerError::NotFound(id.clone()).into())
}

/// Deletes the player and returns its id as stored: `c   ` finds and deletes `c`.
fn delete(conn: &mut MysqlConnection, id: &PlayerId) -> anyhow::Result<PlayerId> {
    let stored = find(conn, id)?.id;
    let found = players::delete(conn, id).context("cannot delete the player")?;
    if !found {
        return Err(PlayerError::NotFound(id.clone()).into());
    }
    Ok(stored)
}

fn find(conn: &mut MysqlConnection, id: &PlayerId) -> anyhow::Result<Player> {
    players::get(conn, id)
        .context("cannot read the player")?
        .ok_or_else(|| PlayerError::NotFound(id.clone()).into())
}

/// Prints a player as the tutorial's line or, with `json`, as [`PlayerJson`].
fn print_player(out: &mut impl Write, player: &Player, json: bool) -> anyhow::Result<()> {
    if json {
        write_json(out, &PlayerJson::from(player))
    } else {
        writeln!(out, "{}", text::player_line(player))?;
        Ok(())
    }
}

/// Prints the tutorial's line per player or, with `json`, one array.
fn print_players(out: &mut impl Write, page: &[Player], json: bool) -> anyhow::Result<()> {
    if json {
        let page: Vec<PlayerJson<'_>> = page.iter().map(PlayerJson::from).collect();
        write_json(out, &page)
    } else {
        page.iter()
            .try_for_each(|p| writeln!(out, "{}", text::player_line(p)))?;
        Ok(())
    }
}
